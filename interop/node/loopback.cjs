// Preload (`node --require interop/node/loopback.cjs ...`) that makes every TCP server of the process
// listen on 127.0.0.1 only, whatever host (or none) the program passes: for peers such as
// @modelcontextprotocol/server-everything, which call `app.listen(PORT)` and so bind all interfaces.
// Pipes and handles (`listen(path)`, `listen({ fd })`) are left alone.
'use strict';
const net = require('node:net');

const LOOPBACK = '127.0.0.1';
const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function loopbackListen(...args) {
  const first = args[0];
  const isPort = (v) => typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v));
  if (first === undefined || typeof first === 'function') {
    args.unshift(0, LOOPBACK); // listen([cb]): a random port, on loopback
  } else if (isPort(first)) {
    // listen(port[, host][, backlog][, cb])
    if (typeof args[1] === 'string') args[1] = LOOPBACK;
    else args.splice(1, 0, LOOPBACK);
  } else if (first && typeof first === 'object' && first.path === undefined && first.fd === undefined && !first.handle && !first._handle) {
    args[0] = { ...first, host: LOOPBACK };
  }
  return listen.apply(this, args);
};
