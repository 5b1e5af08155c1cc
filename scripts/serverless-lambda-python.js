'use strict';
/*
 * osls / Serverless Framework plugin: each function's Python packages from its
 * lock file, and bytecode compiled by the runtime's Python. In-repo, so a fresh
 * clone needs nothing but `npm ci` and a Python of the runtime's version.
 *
 * Why not serverless-python-requirements: it gives every function the same
 * requirements unless each function lives in a folder of its own with its own
 * requirements.txt (its `module` option), which shared code under app/ cannot
 * (serverless/serverless-python-requirements#767); and it compiles no bytecode.
 *
 * The contract, in serverless.yml:
 *   package.individually: true, and every function `package: ${self:custom.packages.NAME}`;
 *   custom.packages.NAME.patterns: the function's code; requirements-NAME.txt: its packages;
 *   custom.lambdaPython.provided: packages the Lambda runtime already has.
 * After the framework zips each function, scripts/lambda_package.py (run by that
 * Python) adds the packages, compiles everything to unchecked-hash .pyc and
 * writes lambda-python.json beside the artefacts; this prints each artefact's size.
 *
 * The Python: LAMBDA_PYTHON_BIN, else the first of python3.X on PATH, pyenv's
 * and uv's installed 3.X, /usr/local/bin and /usr/bin that runs and has pip.
 * Nothing is ever downloaded. `node scripts/serverless-lambda-python.js 3.13`
 * prints the one it finds.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const BUILD_SCRIPT = path.join(__dirname, 'lambda_package.py');

function runs(python, version) {
  const probe = spawnSync(
    python,
    ['-c', 'import sys, pip; print("%d.%d" % sys.version_info[:2])'],
    { encoding: 'utf8' }
  );
  return probe.status === 0 && probe.stdout.trim() === version;
}

function installedUnder(folder, version, relative) {
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .filter((name) => name.startsWith(version + '.') || name.startsWith(`cpython-${version}.`))
    .sort()
    .reverse()
    .map((name) => path.join(folder, name, relative));
}

function candidates(version) {
  const home = os.homedir();
  const pyenvRoot = process.env.PYENV_ROOT || path.join(home, '.pyenv');
  const uvRoot =
    process.env.UV_PYTHON_INSTALL_DIR ||
    path.join(process.env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'uv', 'python');
  const onPath = (process.env.PATH || '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, `python${version}`));
  return [
    ...onPath,
    ...installedUnder(path.join(pyenvRoot, 'versions'), version, `bin/python${version}`),
    ...installedUnder(uvRoot, version, `bin/python${version}`),
    `/usr/local/bin/python${version}`,
    `/usr/bin/python${version}`,
  ];
}

function findPython(version) {
  const configured = process.env.LAMBDA_PYTHON_BIN;
  if (configured) {
    if (runs(configured, version)) return configured;
    throw new Error(`LAMBDA_PYTHON_BIN=${configured} is not a Python ${version} with pip`);
  }
  const tried = candidates(version).filter((file) => fs.existsSync(file));
  const found = tried.find((file) => runs(file, version));
  if (found) return found;
  throw new Error(
    `No Python ${version} with pip found (the functions' runtime; it compiles their bytecode). ` +
      `Install one (pyenv install ${version}, uv python install ${version}, or your OS's package) ` +
      `or set LAMBDA_PYTHON_BIN. Tried: ${tried.join(', ') || 'none on PATH, pyenv or uv'}`
  );
}

class LambdaPython {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.options = options;
    this.log = log || { notice: console.log, info: () => {} };
    const all = () => this.serverless.service.getAllFunctions();
    const one = () => [this.options.function];
    // Checked before the framework zips: a function without a package would
    // otherwise fail there with "No file matches include / exclude patterns".
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.choices(all()),
      'after:package:createDeploymentArtifacts': () => this.finish(all()),
      'before:deploy:function:packageFunction': () => this.choices(one()),
      'after:deploy:function:packageFunction': () => this.finish(one()),
    };
  }

  packageOf(name, functionObject, packages) {
    const patterns = JSON.stringify((functionObject.package || {}).patterns || null);
    const chosen = Object.keys(packages).find(
      (packageName) => JSON.stringify(packages[packageName].patterns) === patterns
    );
    if (!chosen) {
      throw new this.serverless.classes.Error(
        `Function "${name}" must choose what it ships: package: \${self:custom.packages.NAME} ` +
          `with NAME one of ${Object.keys(packages).join(', ')} (see custom.packages in serverless.yml).`
      );
    }
    return chosen;
  }

  /** name -> the package each function chose; throws, saying what to write, when one did not. */
  choices(names) {
    const service = this.serverless.service;
    if (!service.package.individually) {
      throw new this.serverless.classes.Error('package.individually must be true: each function ships its own package');
    }
    const packages = (service.custom || {}).packages || {};
    const runtime = service.provider.runtime || '';
    return names.map((name) => {
      const functionObject = service.getFunction(name);
      if ((functionObject.runtime || runtime) !== runtime) {
        throw new this.serverless.classes.Error(`Function "${name}": one Python runtime for every function`);
      }
      const packageName = this.packageOf(name, functionObject, packages);
      const lock = `requirements-${packageName}.txt`;
      if (!fs.existsSync(path.join(this.serverless.serviceDir, lock))) {
        throw new this.serverless.classes.Error(`Function "${name}": ${lock} is missing (make lock writes it)`);
      }
      return { name, package: packageName, lock };
    });
  }

  plan(names) {
    const service = this.serverless.service;
    const runtime = service.provider.runtime || '';
    const functions = this.choices(names).map((choice) => {
      const artifact = service.getFunction(choice.name).package.artifact;
      return { ...choice, artifact: path.relative(this.serverless.serviceDir, artifact) };
    });
    const artifacts = new Set(functions.map((f) => f.artifact));
    if (artifacts.size !== functions.length) {
      throw new this.serverless.classes.Error('Two functions share one artefact: give each its own package');
    }
    return {
      pythonVersion: runtime.replace(/^python/, ''),
      architecture: service.provider.architecture || 'x86_64',
      provided: ((service.custom || {}).lambdaPython || {}).provided || [],
      functions,
    };
  }

  finish(names) {
    const plan = this.plan(names);
    const python = findPython(plan.pythonVersion);
    this.log.info(`Python packages and bytecode by ${python}`);
    const result = spawnSync(python, [BUILD_SCRIPT], {
      cwd: this.serverless.serviceDir,
      input: JSON.stringify(plan),
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.status !== 0) {
      throw new this.serverless.classes.Error(`${BUILD_SCRIPT} failed (exit ${result.status})`);
    }
    const manifest = JSON.parse(result.stdout);
    const mb = (bytes) => (bytes / 1e6).toFixed(1).padStart(5);
    this.log.notice(`Artefacts (Python ${manifest.python_version}, unchecked-hash .pyc):`);
    for (const [name, built] of Object.entries(manifest.functions)) {
      this.log.notice(
        `  ${name.padEnd(12)} ${built.package.padEnd(9)} ${mb(built.zip_bytes)} MB zipped ` +
          `${mb(built.unpacked_bytes)} MB unpacked  ${Object.keys(built.packages).length} packages`
      );
    }
  }
}

module.exports = LambdaPython;

if (require.main === module) {
  try {
    console.log(findPython(process.argv[2] || '3.13'));
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
