#!/usr/bin/env node
// The installed command (package.json "bin") and the checkout's (bin/install-glance ends here). Written in
// syntax every Node parses, so an old Node gets one clear line instead of a syntax error from the bundle;
// then it loads the bundle (dist/, built by scripts/build.mjs), which does the work.
'use strict';
var path = require('path');
var url = require('url');

if (Number(process.versions.node.split('.')[0]) < 20) {
  process.stderr.write('install-glance needs Node.js 20 or newer; this is Node.js ' + process.versions.node +
    ' (' + process.execPath + '): install a newer one, e.g. from NodeSource or with nvm\n');
  process.exit(1);
}

var root = path.join(__dirname, '..');
var bundle = path.join(root, 'dist', 'install-glance.mjs');
// Behind Function because a Node older than 10 cannot parse import() and must still reach the check above.
var importModule = new Function('specifier', 'return import(specifier)');

importModule(url.pathToFileURL(bundle).href).catch(function (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    var missing = String(err.message).indexOf(bundle) >= 0 ? 'it is not built (no ' + bundle + ')' : 'a package it needs is missing (' + err.message + ')';
    process.stderr.write('error: install-glance cannot start: ' + missing + '\n  what to do: run "npm ci" in ' + root +
      ' (it installs the packages and builds dist/), or install install-glance from a packed tarball\n');
  } else {
    process.stderr.write('error: install-glance cannot start: ' + (err && err.stack ? err.stack : String(err)) + '\n');
  }
  process.exit(1);
});
