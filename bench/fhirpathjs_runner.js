#!/usr/bin/env node
// fhirpath.js counterpart of `regenpath fhirpath EXPRESSION FILE...`, for
// bench/compare_fhirpathjs.sh.
//
//   node bench/fhirpathjs_runner.js [--eval-only] [--quiet] EXPRESSION FILE...
//
// Compiles EXPRESSION once with the R4 model, then for each FILE in order:
// reads it, JSON.parse()s it, evaluates the expression on it and prints the
// result collection as one JSON array per line (as regenpath does).
//
// --eval-only  also prints, on stderr, "eval_ns <total>": the nanoseconds
//              spent in the evaluate calls alone (process.hrtime around
//              compiled(resource)), summed over the files; reading and
//              JSON.parse are excluded.
// --quiet      prints no results (the evaluation still runs).
//
// Exit codes: 0 ok, 2 usage, 3 unreadable/invalid input or expression,
// 4 evaluation error.
'use strict';

const fs = require('fs');
const path = require('path');

// The script's own node_modules (bench/node_modules), whatever the cwd.
const fhirpath = require(path.join(__dirname, 'node_modules', 'fhirpath'));
const r4Model = require(path.join(__dirname, 'node_modules', 'fhirpath', 'fhir-context', 'r4'));

function main(argv) {
  let evalOnly = false;
  let quiet = false;
  let index = 0;
  for (; index < argv.length && argv[index].startsWith('--'); index++) {
    if (argv[index] === '--eval-only') evalOnly = true;
    else if (argv[index] === '--quiet') quiet = true;
    else {
      process.stderr.write(`fhirpathjs_runner: unknown option ${argv[index]}\n`);
      return 2;
    }
  }
  if (argv.length - index < 2) {
    process.stderr.write('usage: fhirpathjs_runner.js [--eval-only] [--quiet] EXPRESSION FILE...\n');
    return 2;
  }
  const expression = argv[index];
  const files = argv.slice(index + 1);

  let compiled;
  try {
    compiled = fhirpath.compile(expression, r4Model);
  } catch (error) {
    process.stderr.write(`fhirpathjs_runner: ${error.message}\n`);
    return 3;
  }

  const lines = [];
  let evalNs = 0n;
  for (const file of files) {
    let resource;
    try {
      resource = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      process.stderr.write(`fhirpathjs_runner: ${file}: ${error.message}\n`);
      return 3;
    }
    let result;
    try {
      const start = process.hrtime.bigint();
      result = compiled(resource);
      evalNs += process.hrtime.bigint() - start;
    } catch (error) {
      process.stderr.write(`fhirpathjs_runner: ${file}: ${error.message}\n`);
      return 4;
    }
    if (!quiet) lines.push(JSON.stringify(result));
  }
  if (!quiet && lines.length) process.stdout.write(lines.join('\n') + '\n');
  if (evalOnly) process.stderr.write(`eval_ns ${evalNs}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
