'use strict';
/*
 * osls / Serverless Framework plugin: the REST API's stage as a resource of its
 * own, and API Gateway's own error answers deployed with the API.
 *
 * The framework creates its stage through the StageName of its
 * AWS::ApiGateway::Deployment, a new resource (ApiGatewayDeployment<timestamp>)
 * on every package. Settings written into that deployment's StageDescription
 * break every deploy after the first ("StageDescription cannot be specified
 * when stage referenced by StageName already exists"), and could never change
 * once the stage exists. So, as SAM does, this:
 *
 * - takes StageName off the deployment (it then creates no stage), and names
 *   the deployment after a hash of the API's resources
 *   (ApiGatewayDeployment<hash>): the same API packages to the same template,
 *   and a changed route or gateway response makes a new deployment;
 * - adds ApiGatewayStage (AWS::ApiGateway::Stage) pointing at that deployment,
 *   with custom.apiStage's throttling as its `*` method settings, X-Ray tracing
 *   (provider.tracing.apiGateway) and JSON access logs into the log group
 *   custom.apiStage.accessLogGroup names. CloudFormation updates it in place
 *   whenever one of them changes;
 * - when custom.apiStage.cloudWatchRole is `create`, adds the role API Gateway
 *   needs to write logs and sets it on the region's API Gateway account
 *   (AWS::ApiGateway::Account); `existing` leaves the account's role as it is.
 * It also makes the deployment wait for the AWS::ApiGateway::GatewayResponse
 * resources, so that each deployment includes them.
 *
 * Only the compiled template changes: packaging stays offline.
 */
const crypto = require('crypto');

const STAGE_ID = 'ApiGatewayStage';
const ACCOUNT_ID = 'ApiGatewayAccount';
const ROLE_ID = 'ApiGatewayCloudWatchRole';
// One JSON object per request: what Logs Insights and metric filters read.
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTimeEpoch',
  httpMethod: '$context.httpMethod',
  path: '$context.path',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  error: '$context.error.responseType',
  xrayTraceId: '$context.xrayTraceId',
});

function sortedJson(value) {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${sortedJson(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

class ApiStage {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      // After serverless.yml's resources are merged, before the template is written.
      'before:aws:package:finalize:saveServiceState': () => this.apply(),
    };
  }

  settings() {
    const settings = (this.serverless.service.custom || {}).apiStage || {};
    const rate = Number(settings.throttlingRateLimit);
    const burst = Number(settings.throttlingBurstLimit);
    const role = settings.cloudWatchRole;
    const fail = (message) => {
      throw new this.serverless.classes.Error(`custom.apiStage: ${message}; got ${JSON.stringify(settings)}`);
    };
    if (!(rate > 0) || !(burst > 0) || !Number.isInteger(burst)) {
      fail('throttlingRateLimit (requests per second, > 0) and throttlingBurstLimit (a whole number > 0)');
    }
    if (!settings.accessLogGroup) fail('accessLogGroup (the logical id of the access logs\' log group)');
    if (!['create', 'existing'].includes(role)) fail('cloudWatchRole is `create` or `existing`');
    return { rate, burst, role, accessLogGroup: settings.accessLogGroup };
  }

  apply() {
    const settings = this.settings();
    const provider = this.serverless.service.provider;
    const resources = provider.compiledCloudFormationTemplate.Resources;
    const ofType = (type) => Object.keys(resources).filter((id) => resources[id].Type === type);
    const deployments = ofType('AWS::ApiGateway::Deployment');
    if (deployments.length === 0) return;
    if (deployments.length > 1 || !(settings.accessLogGroup in resources)) {
      throw new this.serverless.classes.Error(
        `serverless-api-stage: expected one deployment and the log group ${settings.accessLogGroup}`
      );
    }
    const [framework] = deployments;
    const deployment = resources[framework];
    delete resources[framework];
    const stageName = deployment.Properties.StageName;
    delete deployment.Properties.StageName;
    delete deployment.Properties.StageDescription;
    const gatewayResponses = ofType('AWS::ApiGateway::GatewayResponse');
    const dependsOn = [].concat(deployment.DependsOn || []);
    deployment.DependsOn = [...dependsOn, ...gatewayResponses.filter((r) => !dependsOn.includes(r))];

    // What the deployment snapshots: every API Gateway resource but deployments and stages.
    const api = Object.keys(resources)
      .filter((id) => resources[id].Type.startsWith('AWS::ApiGateway::'))
      .filter((id) => !['AWS::ApiGateway::Stage', 'AWS::ApiGateway::Account'].includes(resources[id].Type))
      .sort()
      .map((id) => [id, resources[id]]);
    const hash = crypto.createHash('sha256').update(sortedJson([api, deployment])).digest('hex');
    const deploymentId = `ApiGatewayDeployment${hash.slice(0, 12)}`;
    resources[deploymentId] = deployment;

    resources[STAGE_ID] = {
      Type: 'AWS::ApiGateway::Stage',
      Properties: {
        RestApiId: deployment.Properties.RestApiId,
        StageName: stageName,
        DeploymentId: { Ref: deploymentId },
        TracingEnabled: Boolean(provider.tracing && provider.tracing.apiGateway),
        MethodSettings: [
          {
            HttpMethod: '*',
            ResourcePath: '/*',
            ThrottlingRateLimit: settings.rate,
            ThrottlingBurstLimit: settings.burst,
          },
        ],
        AccessLogSetting: {
          DestinationArn: { 'Fn::GetAtt': [settings.accessLogGroup, 'Arn'] },
          Format: ACCESS_LOG_FORMAT,
        },
      },
    };
    if (settings.role === 'create') {
      resources[ROLE_ID] = {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' }, Action: 'sts:AssumeRole' },
            ],
          },
          ManagedPolicyArns: [
            { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs' },
          ],
        },
      };
      resources[ACCOUNT_ID] = {
        Type: 'AWS::ApiGateway::Account',
        Properties: { CloudWatchRoleArn: { 'Fn::GetAtt': [ROLE_ID, 'Arn'] } },
      };
      resources[STAGE_ID].DependsOn = [ACCOUNT_ID];
    }
  }
}

module.exports = ApiStage;
module.exports.ACCESS_LOG_FORMAT = ACCESS_LOG_FORMAT;
