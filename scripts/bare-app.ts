// The baseline for `npm run bench`: an empty CDK app with one empty stack.
import { App, Stack } from 'aws-cdk-lib';

const app = new App();
new Stack(app, 'Bare', { env: { account: '123456789012', region: 'us-east-1' } });
app.synth();
