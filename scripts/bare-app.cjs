// The yardstick for `npm run bench`: an empty CDK app with one empty stack, plain JavaScript (no
// TypeScript loader), aws-cdk-lib's defaults. With CDK_VALIDATION=false it is the floor: the same
// app without the built-in CloudFormation validation.
const { App, Stack } = require('aws-cdk-lib');

const app = new App();
new Stack(app, 'Bare', { env: { account: '123456789012', region: 'us-east-1' } });
app.synth();
