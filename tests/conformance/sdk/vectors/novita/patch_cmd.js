const { emit, CTX, Template } = require('./_emit')
const novita = require('novita-sandbox')
emit(Template().fromImage('ubuntu:22.04').setPatchCmd('echo patched > /etc/patched'))
