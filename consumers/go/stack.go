// A Go CDK app that protects its user pool with cognito-lockout (the docs' Go example, run in CI).
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cognito-lockout/cognito-lockout-go/cognitolockout"
)

type AuthStack struct {
	awscdk.Stack
	Lockout cognitolockout.CognitoLockout
}

func NewAuthStack(scope constructs.Construct, id string) AuthStack {
	stack := awscdk.NewStack(scope, jsii.String(id), nil)
	pool := awscognito.NewUserPool(stack, jsii.String("Pool"), &awscognito.UserPoolProps{
		SignInCaseSensitive: jsii.Bool(false),
		SelfSignUpEnabled:   jsii.Bool(true),
	})
	// The lockout needs clients that hide user existence, and that allow only flows it counts.
	pool.AddClient(jsii.String("Web"), &awscognito.UserPoolClientOptions{
		PreventUserExistenceErrors: jsii.Bool(true),
		AuthFlows:                  &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
	})
	lockout := cognitolockout.NewCognitoLockout(stack, jsii.String("Lockout"), &cognitolockout.CognitoLockoutProps{
		UserPool:          pool,
		MaxFailedAttempts: jsii.Number(3),
		LockoutDuration:   awscdk.Duration_Hours(jsii.Number(1)),
		Mode:              cognitolockout.LockoutMode_MONITOR,
		StoreErrorPolicy:  cognitolockout.StoreErrorPolicy_DENY,
		LogLevel:          cognitolockout.LogLevel_WARN,
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
	})
	return AuthStack{Stack: stack, Lockout: lockout}
}
