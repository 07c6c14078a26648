import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { operatorNote, resolveOperator } from '../lib/admin/operator';

const sts = mockClient(STSClient);
beforeEach(() => sts.reset());

const ARN = 'arn:aws:sts::123456789012:assumed-role/Support/jane';

describe('who acts, for the audit trail', () => {
  it('is the ARN STS reports for the credentials, with the note beside it', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Arn: ARN, Account: '123456789012', UserId: 'AROAEXAMPLE:jane' });
    await expect(resolveOperator('eu-west-1')).resolves.toEqual({ arn: ARN });
    await expect(resolveOperator('eu-west-1', '  SUP-42: user called  ')).resolves.toEqual({ arn: ARN, note: 'SUP-42: user called' });
  });

  it('fails rather than record an operator STS did not name', async () => {
    sts.on(GetCallerIdentityCommand).resolves({});
    await expect(resolveOperator(undefined)).rejects.toThrow('AWS STS did not say who the credentials belong to');
  });

  it.each(['', '   ', 'x'.repeat(201), 'two\nlines'])('rejects the note %p before asking AWS anything', async (note) => {
    expect(() => operatorNote(note)).toThrow('--operator takes a note of 1-200 characters on one line');
    await expect(resolveOperator(undefined, note)).rejects.toMatchObject({ exitCode: 2 });
    expect(sts.calls()).toHaveLength(0);
  });
});
