"""Synthesizes app.py's stack from the installed wheel and asserts on the template, as a Python team's test would."""
import json
import os
import sys
import tempfile

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from aws_cdk.assertions import Match, Template

from app import AuthStack
from cognito_lockout import CognitoLockout, PoolRisk

outdir = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
app = cdk.App(outdir=outdir)
stack = AuthStack(app, "Auth")
assembly = app.synth()
template = Template.from_stack(stack)

# The triggers are wired to the pool.
template.has_resource_properties(
    "AWS::Cognito::UserPool",
    {
        "LambdaConfig": Match.object_like(
            {name: Match.any_value() for name in ["PreAuthentication", "PostAuthentication", "PreTokenGeneration", "PreSignUp", "PostConfirmation"]}
        )
    },
)
# The settings reach the functions, enums as the values the functions read.
template.has_resource_properties(
    "AWS::Lambda::Function",
    {
        "Environment": {
            "Variables": Match.object_like(
                {
                    "LOCKOUT_MAX_FAILED_ATTEMPTS": "3",
                    "LOCKOUT_DURATION_SECONDS": "3600",
                    "LOCKOUT_MODE": "monitor",
                    "LOCKOUT_STORE_ERROR_POLICY": "deny",
                    "POWERTOOLS_LOG_LEVEL": "WARN",
                }
            )
        }
    },
)
# Every function's code is a bundle the package shipped, staged into the cloud assembly.
functions = template.find_resources("AWS::Lambda::Function")
assert len(functions) >= 5, f"expected the lockout's functions, found {len(functions)}"
for logical_id, function in functions.items():
    key = function["Properties"]["Code"]["S3Key"]
    bundle = os.path.join(assembly.directory, "asset." + key.removesuffix(".zip"), "index.js")
    assert os.path.getsize(bundle) > 10_000, f"{logical_id}: {bundle} is not a bundle"
assert stack.lockout.device_key_secret is not None and stack.lockout.monitoring is not None

# A wrong prop value fails with the construct's own message, naming the prop.
try:
    scratch = cdk.Stack(cdk.App(), "Wrong")
    CognitoLockout(scratch, "Lockout", user_pool=cognito.UserPool(scratch, "Pool"), max_failed_attempts=0)
    raise AssertionError("max_failed_attempts=0 was accepted")
except RuntimeError as error:  # how jsii raises a JavaScript error in Python
    assert "CognitoLockout: maxFailedAttempts must be a whole number from 1 to 1000, got 0" in str(error), str(error)
# A risk is accepted by its enum member.
lenient = cdk.Stack(cdk.App(), "Lenient")
CognitoLockout(lenient, "Lockout", user_pool=cognito.UserPool(lenient, "Pool"), accepted_pool_risks=[PoolRisk.CUSTOM_AUTH])
Template.from_stack(lenient)

print(json.dumps({"python": "ok", "template": os.path.join(assembly.directory, stack.template_file)}))
