package com.example;

import io.github.cognitolockout.CognitoLockout;
import io.github.cognitolockout.PoolRisk;
import java.io.File;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.assertions.Match;
import software.amazon.awscdk.assertions.Template;
import software.amazon.awscdk.cxapi.CloudAssembly;
import software.amazon.awscdk.services.cognito.UserPool;

/** Synthesizes AuthStack from the installed artifacts and asserts on the template, as a Java team's test would. */
public final class CheckApp {
    private static void check(boolean condition, String message) {
        if (!condition) throw new AssertionError(message);
    }

    public static void main(final String[] args) {
        String outdir = args.length > 0 ? args[0] : "cdk.out";
        App app = new App(AppProps.builder().outdir(outdir).build());
        AuthStack stack = new AuthStack(app, "Auth");
        CloudAssembly assembly = app.synth();
        Template template = Template.fromStack(stack);

        // The triggers are wired to the pool.
        template.hasResourceProperties("AWS::Cognito::UserPool", Map.of("LambdaConfig", Match.objectLike(Map.of(
                "PreAuthentication", Match.anyValue(),
                "PostAuthentication", Match.anyValue(),
                "PreTokenGeneration", Match.anyValue(),
                "PreSignUp", Match.anyValue(),
                "PostConfirmation", Match.anyValue()))));
        // The settings reach the functions, enums as the values the functions read.
        template.hasResourceProperties("AWS::Lambda::Function", Map.of("Environment", Map.of("Variables", Match.objectLike(Map.of(
                "LOCKOUT_MAX_FAILED_ATTEMPTS", "3",
                "LOCKOUT_DURATION_SECONDS", "3600",
                "LOCKOUT_MODE", "monitor",
                "LOCKOUT_STORE_ERROR_POLICY", "deny",
                "POWERTOOLS_LOG_LEVEL", "WARN")))));
        // Every function's code is a bundle the package shipped, staged into the cloud assembly.
        Map<String, Map<String, Object>> functions = template.findResources("AWS::Lambda::Function");
        check(functions.size() >= 5, "expected the lockout's functions, found " + functions.size());
        for (Map.Entry<String, Map<String, Object>> function : functions.entrySet()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> code = (Map<String, Object>) ((Map<String, Object>) function.getValue().get("Properties")).get("Code");
            String key = (String) code.get("S3Key");
            File bundle = new File(assembly.getDirectory(), "asset." + key.replace(".zip", "") + "/index.js");
            check(bundle.length() > 10_000, function.getKey() + ": " + bundle + " is not a bundle");
        }
        check(stack.lockout.getDeviceKeySecret() != null && stack.lockout.getMonitoring() != null, "device tokens and monitoring are on by default");

        // A wrong prop value fails with the construct's own message, naming the prop.
        Stack wrong = new Stack(new App(), "Wrong");
        try {
            CognitoLockout.Builder.create(wrong, "Lockout").userPool(new UserPool(wrong, "Pool")).maxFailedAttempts(0).build();
            throw new AssertionError("maxFailedAttempts(0) was accepted");
        } catch (RuntimeException error) { // how jsii raises a JavaScript error in Java
            check(String.valueOf(error.getMessage()).contains("CognitoLockout: maxFailedAttempts must be a whole number from 1 to 1000, got 0"),
                    "unexpected error: " + error.getMessage());
        }
        // A risk is accepted by its enum member.
        Stack lenient = new Stack(new App(), "Lenient");
        CognitoLockout.Builder.create(lenient, "Lockout").userPool(new UserPool(lenient, "Pool")).acceptedPoolRisks(List.of(PoolRisk.CUSTOM_AUTH)).build();
        Template.fromStack(lenient);

        System.out.println("{\"java\": \"ok\", \"template\": \"" + new File(assembly.getDirectory(), stack.getTemplateFile()) + "\"}");
    }
}
