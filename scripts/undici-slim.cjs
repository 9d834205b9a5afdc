'use strict';
/* global require, module */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: it is bundled in place of undici's CommonJS entry. */
// What src/net/http-fetcher.ts takes from undici, for the single executable's bundle only
// (scripts/build-downloader.ts): undici's package entry loads fetch, WebSocket, the caches and
// the mocks too, ~80 ms CPU and ~13 MiB a download never uses (docs/downloader-binary.md).
// undici is pinned to an exact version; these are its own modules, wired as its index.js does.
const Dispatcher = require('undici/lib/dispatcher/dispatcher');
const api = require('undici/lib/api');
const util = require('undici/lib/core/util');
const { InvalidArgumentError } = require('undici/lib/core/errors');

// As undici's index.js: request() (and the other API methods) on every dispatcher.
Object.assign(Dispatcher.prototype, api);

/** undici's top-level request(url, { dispatcher, … }); a dispatcher is required (no global one here). */
function request(url, opts) {
  if (!opts || !opts.dispatcher) throw new InvalidArgumentError('request() needs opts.dispatcher in the downloader binary');
  const { dispatcher, ...rest } = opts;
  const parsed = util.parseURL(url);
  return api.request.call(dispatcher, {
    ...rest,
    origin: parsed.origin,
    path: parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname,
    method: opts.method || 'GET',
  });
}

module.exports = {
  Agent: require('undici/lib/dispatcher/agent'),
  Pool: require('undici/lib/dispatcher/pool'),
  ProxyAgent: require('undici/lib/dispatcher/proxy-agent'),
  interceptors: { retry: require('undici/lib/interceptor/retry') },
  request,
};
