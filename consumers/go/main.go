// Synthesizes AuthStack from the built module and asserts on the template, as a Go team's test would.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"
	"github.com/cognito-lockout/cognito-lockout-go/cognitolockout"
)

func check(ok bool, format string, args ...interface{}) {
	if !ok {
		panic(fmt.Sprintf(format, args...))
	}
}

func main() {
	defer jsii.Close()
	outdir := "cdk.out"
	if len(os.Args) > 1 {
		outdir = os.Args[1]
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	stack := NewAuthStack(app, "Auth")
	assembly := app.Synth(nil)
	template := assertions.Template_FromStack(stack.Stack, nil)

	// The triggers are wired to the pool.
	template.HasResourceProperties(jsii.String("AWS::Cognito::UserPool"), map[string]interface{}{
		"LambdaConfig": assertions.Match_ObjectLike(&map[string]interface{}{
			"PreAuthentication":  assertions.Match_AnyValue(),
			"PostAuthentication": assertions.Match_AnyValue(),
			"PreTokenGeneration": assertions.Match_AnyValue(),
			"PreSignUp":          assertions.Match_AnyValue(),
			"PostConfirmation":   assertions.Match_AnyValue(),
		}),
	})
	// The settings reach the functions, enums as the values the functions read.
	template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
		"Environment": map[string]interface{}{
			"Variables": assertions.Match_ObjectLike(&map[string]interface{}{
				"LOCKOUT_MAX_FAILED_ATTEMPTS": "3",
				"LOCKOUT_DURATION_SECONDS":    "3600",
				"LOCKOUT_MODE":                "monitor",
				"LOCKOUT_STORE_ERROR_POLICY":  "deny",
				"POWERTOOLS_LOG_LEVEL":        "WARN",
			}),
		},
	})
	// Every function's code is a bundle the package shipped, staged into the cloud assembly.
	functions := *template.FindResources(jsii.String("AWS::Lambda::Function"), nil)
	check(len(functions) >= 5, "expected the lockout's functions, found %d", len(functions))
	for id, function := range functions {
		code := (*function)["Properties"].(map[string]interface{})["Code"].(map[string]interface{})
		bundle := filepath.Join(*assembly.Directory(), "asset."+strings.TrimSuffix(code["S3Key"].(string), ".zip"), "index.js")
		info, err := os.Stat(bundle)
		check(err == nil && info.Size() > 10_000, "%s: %s is not a bundle", id, bundle)
	}
	check(stack.Lockout.DeviceKeySecret() != nil && stack.Lockout.Monitoring() != nil, "device tokens and monitoring are on by default")

	// A wrong prop value fails with the construct's own message, naming the prop.
	func() {
		defer func() {
			message := fmt.Sprint(recover()) // how jsii raises a JavaScript error in Go
			check(strings.Contains(message, "CognitoLockout: maxFailedAttempts must be a whole number from 1 to 1000, got 0"), "unexpected error: %s", message)
		}()
		wrong := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Wrong"), nil)
		cognitolockout.NewCognitoLockout(wrong, jsii.String("Lockout"), &cognitolockout.CognitoLockoutProps{
			UserPool:          awscognito.NewUserPool(wrong, jsii.String("Pool"), nil),
			MaxFailedAttempts: jsii.Number(0),
		})
	}()
	// A risk is accepted by its enum member.
	lenient := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Lenient"), nil)
	cognitolockout.NewCognitoLockout(lenient, jsii.String("Lockout"), &cognitolockout.CognitoLockoutProps{
		UserPool:          awscognito.NewUserPool(lenient, jsii.String("Pool"), nil),
		AcceptedPoolRisks: &[]cognitolockout.PoolRisk{cognitolockout.PoolRisk_CUSTOM_AUTH},
	})
	assertions.Template_FromStack(lenient, nil)

	fmt.Printf("{\"go\": \"ok\", \"template\": %q}\n", filepath.Join(*assembly.Directory(), *stack.TemplateFile()))
}
