package com.example;

import io.github.cognitolockout.CognitoLockout;
import io.github.cognitolockout.LockoutMode;
import io.github.cognitolockout.LogLevel;
import io.github.cognitolockout.StoreErrorPolicy;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.cognito.AuthFlow;
import software.amazon.awscdk.services.cognito.UserPool;
import software.amazon.awscdk.services.cognito.UserPoolClientOptions;
import software.constructs.Construct;

/** A user pool protected by cognito-lockout (the docs' Java example, run in CI). */
public class AuthStack extends Stack {
    public final CognitoLockout lockout;

    public AuthStack(final Construct scope, final String id) {
        super(scope, id);
        UserPool pool = UserPool.Builder.create(this, "Pool").signInCaseSensitive(false).selfSignUpEnabled(true).build();
        // The lockout needs clients that hide user existence, and that allow only flows it counts.
        pool.addClient("Web", UserPoolClientOptions.builder()
                .preventUserExistenceErrors(true)
                .authFlows(AuthFlow.builder().userSrp(true).build())
                .build());
        lockout = CognitoLockout.Builder.create(this, "Lockout")
                .userPool(pool)
                .maxFailedAttempts(3)
                .lockoutDuration(Duration.hours(1))
                .mode(LockoutMode.MONITOR)
                .storeErrorPolicy(StoreErrorPolicy.DENY)
                .logLevel(LogLevel.WARN)
                .removalPolicy(RemovalPolicy.DESTROY)
                .build();
    }
}
