// The tests run on Node 20; the deployed functions run on Node 24. The SDK's notice about
// Node 20 support would only add noise to the test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
