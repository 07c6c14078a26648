/**
 * What a test's code writes to stdout and stderr, whichever way it writes: through the streams, or straight to the
 * file descriptors as the functions' logs and metrics do (lambdas/shared/fd-console.ts). The spy is on the module
 * itself, so that it sees the calls of every importer (an import's copy of the bindings would not).
 */
export async function capturingOutput<T>(body: () => Promise<T>): Promise<{ result: T; log: string }> {
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array) => written.push(chunk.toString()) > 0;
  const fs = jest.requireActual<typeof import('node:fs')>('node:fs');
  const spies = [
    ...[process.stdout, process.stderr].map((stream) => jest.spyOn(stream, 'write').mockImplementation(capture)),
    jest
      .spyOn(fs, 'writeSync')
      .mockImplementation(((fd: number, chunk: string) => (fd === 1 || fd === 2 ? capture(chunk) && chunk.length : 0)) as () => number),
  ];
  try {
    const result = await body();
    return { result, log: written.join('') };
  } finally {
    spies.forEach((spy) => spy.mockRestore());
  }
}
