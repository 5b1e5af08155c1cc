'use strict';
/*
 * osls / Serverless Framework plugin: the REST API stage's throttling, and
 * API Gateway's own error answers deployed with the API.
 *
 * The framework has no setting for stage throttling (its usage plans throttle
 * API Gateway's own API keys only, and ours are checked by the app). Its stage
 * is created by its AWS::ApiGateway::Deployment, a new one on every deploy,
 * whose StageDescription carries the stage's default method throttling: this
 * sets it from custom.apiStage, { throttlingRateLimit, throttlingBurstLimit }.
 * It also makes that deployment wait for the AWS::ApiGateway::GatewayResponse
 * resources, so that each deployment includes them.
 *
 * Only the compiled template changes: packaging stays offline.
 */

class ApiStage {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      // After serverless.yml's resources are merged, before the template is written.
      'before:aws:package:finalize:saveServiceState': () => this.apply(),
    };
  }

  apply() {
    const settings = (this.serverless.service.custom || {}).apiStage || {};
    const rate = Number(settings.throttlingRateLimit);
    const burst = Number(settings.throttlingBurstLimit);
    if (!(rate > 0) || !(burst > 0) || !Number.isInteger(burst)) {
      throw new this.serverless.classes.Error(
        'custom.apiStage needs throttlingRateLimit (requests per second, > 0) and ' +
          `throttlingBurstLimit (a whole number > 0); got ${JSON.stringify(settings)}`
      );
    }
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const ofType = (type) => Object.keys(resources).filter((id) => resources[id].Type === type);
    const gatewayResponses = ofType('AWS::ApiGateway::GatewayResponse');
    for (const id of ofType('AWS::ApiGateway::Deployment')) {
      const deployment = resources[id];
      deployment.Properties.StageDescription = {
        ...(deployment.Properties.StageDescription || {}),
        ThrottlingRateLimit: rate,
        ThrottlingBurstLimit: burst,
      };
      const dependsOn = [].concat(deployment.DependsOn || []);
      deployment.DependsOn = [...dependsOn, ...gatewayResponses.filter((r) => !dependsOn.includes(r))];
    }
  }
}

module.exports = ApiStage;
