const { emit, emitError, CTX, CTX_IGNORE, Template } = require('./_emit')
const e2b = require('e2b')
emitError(() => Template().fromImage('ubuntu:22.04').setPatchCmd('echo patched > /etc/patched'))
