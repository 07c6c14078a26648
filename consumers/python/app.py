"""A Python CDK app that protects its user pool with cognito-lockout (the docs' Python example, run in CI)."""
import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from cognito_lockout import CognitoLockout, LockoutMode, LogLevel, StoreErrorPolicy


class AuthStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        pool = cognito.UserPool(self, "Pool", sign_in_case_sensitive=False, self_sign_up_enabled=True)
        # The lockout needs clients that hide user existence, and that allow only flows it counts.
        pool.add_client("Web", prevent_user_existence_errors=True, auth_flows=cognito.AuthFlow(user_srp=True))
        self.lockout = CognitoLockout(
            self,
            "Lockout",
            user_pool=pool,
            max_failed_attempts=3,
            lockout_duration=cdk.Duration.hours(1),
            mode=LockoutMode.MONITOR,
            store_error_policy=StoreErrorPolicy.DENY,
            log_level=LogLevel.WARN,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )


if __name__ == "__main__":
    app = cdk.App()
    AuthStack(app, "Auth")
    app.synth()
