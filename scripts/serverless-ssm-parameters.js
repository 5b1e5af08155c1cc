'use strict';
/*
 * osls / Serverless Framework plugin: the SSM SecureStrings the stack reads,
 * from the one list of them, custom.ssmParameters in serverless.yml:
 *
 *   - { name: /async-app/<stage>/..., source: operator | generated, generate: hex | whsec, what: ... }
 *
 * - `osls preflight` (make preflight) reads SSM and fails naming every
 *   `operator` parameter that is missing, with what to put there; it says
 *   which `generated` ones a deploy will create. It changes nothing, unless
 *   given --generate: then it creates those as the deploy would.
 * - `osls deploy`, after packaging and before CloudFormation: the same check,
 *   then it creates each missing `generated` parameter with a random value
 *   (a log line names it; the value is never printed), so the stack's own
 *   secrets need nobody.
 * - `osls remove`, after the stack is gone: deletes every parameter of the
 *   list (a log line names each).
 *
 * Only names reach logs and the template; values stay in SSM. Reads use
 * GetParameter without decryption: existence is all that is checked.
 */
const crypto = require('crypto');
const {
  SSMClient,
  GetParameterCommand,
  PutParameterCommand,
  DeleteParametersCommand,
} = require('@aws-sdk/client-ssm');

const GENERATORS = {
  // 32 random bytes as 64 hex characters: signing keys (sessions, page tokens).
  hex: () => crypto.randomBytes(32).toString('hex'),
  // A webhook secret as Standard Webhooks writes it (app/domain/webhooks.py).
  whsec: () => `whsec_${crypto.randomBytes(32).toString('base64')}`,
};

class SsmParameters {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.options = options || {};
    this.log = log || { notice: console.log, warning: console.warn };
    this.provider = serverless.getProvider('aws');
    this.commands = {
      preflight: {
        usage: 'Check that every SSM parameter the stack reads exists (custom.ssmParameters)',
        lifecycleEvents: ['check'],
        options: {
          stage: { usage: 'Stage of the service', shortcut: 's', type: 'string' },
          region: { usage: 'Region of the service', shortcut: 'r', type: 'string' },
          generate: { usage: 'Create the missing generated parameters now', type: 'boolean' },
        },
      },
    };
    this.hooks = {
      'preflight:check': () => this.preflight({ create: Boolean(this.options.generate) }),
      'before:deploy:deploy': () => this.preflight({ create: true }),
      'after:remove:remove': () => this.remove(),
    };
  }

  parameters() {
    const list = (this.serverless.service.custom || {}).ssmParameters;
    if (!Array.isArray(list) || list.length === 0) {
      throw new this.serverless.classes.Error('custom.ssmParameters: the list of SSM parameters the stack reads');
    }
    for (const parameter of list) {
      const generated = parameter.source === 'generated';
      if (
        typeof parameter.name !== 'string' ||
        !parameter.name.startsWith('/') ||
        !['operator', 'generated'].includes(parameter.source) ||
        generated !== Boolean(GENERATORS[parameter.generate]) ||
        !parameter.what
      ) {
        throw new this.serverless.classes.Error(
          'custom.ssmParameters: each is { name: /..., source: operator | generated, ' +
            `generate: ${Object.keys(GENERATORS).join(' | ')} (generated only), what }; got ${JSON.stringify(parameter)}`
        );
      }
    }
    return list;
  }

  async client() {
    return new SSMClient(await this.provider.getAwsSdkV3Config());
  }

  async exists(ssm, name) {
    try {
      await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: false }));
      return true;
    } catch (error) {
      if (error.name === 'ParameterNotFound') return false;
      throw new this.serverless.classes.Error(`Could not read SSM parameter ${name}: ${error.name}: ${error.message}`);
    }
  }

  async preflight({ create }) {
    const parameters = this.parameters();
    const ssm = await this.client();
    const region = this.provider.getRegion();
    const missing = [];
    for (const parameter of parameters) {
      if (await this.exists(ssm, parameter.name)) continue;
      if (parameter.source === 'operator') {
        missing.push(parameter);
      } else if (!create) {
        this.log.notice(`SSM ${parameter.name}: missing; the deploy will generate it (${parameter.what})`);
      } else {
        await this.generate(ssm, parameter);
      }
    }
    if (missing.length) {
      const lines = missing.map((p) => `  ${p.name}: ${p.what}`);
      throw new this.serverless.classes.Error(
        `Missing SSM parameters in ${region} (create them first; docs/deploy.md, "Secrets"):\n${lines.join('\n')}`
      );
    }
    this.log.notice(`SSM parameters: all ${parameters.length} present in ${region}`);
  }

  async generate(ssm, parameter) {
    try {
      await ssm.send(
        new PutParameterCommand({
          Name: parameter.name,
          Value: GENERATORS[parameter.generate](),
          Type: 'SecureString',
          Overwrite: false,
          Description: `${parameter.what} (generated by the deploy)`,
        })
      );
      this.log.notice(`SSM ${parameter.name}: created with a random value (${parameter.what})`);
    } catch (error) {
      // Created meanwhile (a deploy racing this one): that value stands.
      if (error.name !== 'ParameterAlreadyExists') throw error;
    }
  }

  async remove() {
    const names = this.parameters().map((p) => p.name);
    const ssm = await this.client();
    // DeleteParameters takes at most 10 names a call.
    for (let start = 0; start < names.length; start += 10) {
      const result = await ssm.send(new DeleteParametersCommand({ Names: names.slice(start, start + 10) }));
      for (const name of result.DeletedParameters || []) this.log.notice(`SSM ${name}: deleted`);
    }
  }
}

module.exports = SsmParameters;
module.exports.GENERATORS = GENERATORS;
