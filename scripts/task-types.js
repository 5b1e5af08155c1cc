'use strict';
// serverless.yml's per-task-type parts (functions, queues, roles, alarms, ...),
// made from the declarations in workers/tasks/ by app/task_type_stack.py:
//   functions: [..., ${file(./scripts/task-types.js):functions}]
// The local runtime calls the same Python for `make run`, so both agree.
// Any Python 3.11+ will do (standard library only): PYTHON, else python3.
const { execFileSync } = require('child_process');
const path = require('path');

let parts;

function load() {
  if (parts) return parts;
  const python = process.env.PYTHON || 'python3';
  try {
    const out = execFileSync(python, ['-m', 'app.task_type_stack'], {
      cwd: path.resolve(__dirname, '..'),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
    parts = JSON.parse(out);
  } catch (error) {
    const said = (error.stderr || '').toString().trim();
    throw new Error(said || `${python} -m app.task_type_stack failed: ${error.message}`);
  }
  return parts;
}

const part = (name) => () => load()[name];

module.exports = {
  functions: part('functions'),
  resources: part('resources'),
  deadLetterEvents: part('deadLetterEvents'),
  deadLetterQueueArns: part('deadLetterQueueArns'),
  taskQueueArns: part('taskQueueArns'),
  deadLettersReservedConcurrency: part('deadLettersReservedConcurrency'),
};
