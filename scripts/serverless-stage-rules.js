'use strict';
/*
 * osls / Serverless Framework plugin: what a stage may be, and the switches
 * that apply to every function at once.
 *
 * - The stage `local` is refused: it is the name `make run` gives its own
 *   stack (app/local), and nothing deployed may look like it. What runs
 *   locally is decided by the local runtime (LOCAL_MODE), never by a stage's
 *   name; refusing the name keeps anyone from reading it that way.
 * - custom.reservedConcurrency `off` takes ReservedConcurrentExecutions off
 *   every function of the compiled template (an account whose concurrency
 *   limit can't afford the reservations: new accounts start at 10). `on`
 *   keeps each function's reservedConcurrency. The SQS mappings'
 *   maximumConcurrency stays either way. Applied to the compiled template, so
 *   it covers every function, however serverless.yml declares it.
 *
 * Only the compiled template changes: packaging stays offline.
 */

const REFUSED_STAGES = {
  local:
    'the stage "local" is the local runtime\'s (make run): it is never packaged or deployed. ' +
    'Local behaviour (loopback webhooks, the default dashboard user and API key) is switched on by ' +
    'app/local itself, not by a stage name; deploy under another name (dev, prod, ...).',
};

class StageRules {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options || {};
    this.hooks = {
      'before:package:cleanup': () => this.checkStage(),
      // `osls deploy --package DIR` deploys a package without packaging it.
      'before:deploy:deploy': () => this.checkStage(),
      'before:deploy:function:initialize': () => this.checkStage(),
      'before:aws:package:finalize:saveServiceState': () => this.applyReservedConcurrency(),
    };
  }

  checkStage() {
    const stage = this.serverless.service.provider.stage || this.options.stage;
    if (stage in REFUSED_STAGES) {
      throw new this.serverless.classes.Error(`Refusing stage "${stage}": ${REFUSED_STAGES[stage]}`);
    }
  }

  applyReservedConcurrency() {
    const setting = String((this.serverless.service.custom || {}).reservedConcurrency);
    if (!['on', 'off'].includes(setting)) {
      throw new this.serverless.classes.Error(
        `custom.reservedConcurrency (param reservedConcurrency) is "on" or "off", not "${setting}"`
      );
    }
    if (setting === 'on') return;
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    for (const resource of Object.values(resources)) {
      if (resource.Type === 'AWS::Lambda::Function') {
        delete resource.Properties.ReservedConcurrentExecutions;
      }
    }
  }
}

module.exports = StageRules;
module.exports.REFUSED_STAGES = REFUSED_STAGES;
