const { emit, CTX, Template } = require('./_emit')
const novita = require('novita-sandbox')
// `$VAR` and `${VAR}` expand against the build's environment and the values exported before
// them; a second setEnvs of VIRTUAL_ENV keeps its first position with the last value.
emit(Template().fromTemplate('t')
  .setEnvs({ VIRTUAL_ENV: '/opt/venv', PATH: '/opt/venv/bin:$PATH' })
  .setEnvs({ PYTHONPATH: '${VIRTUAL_ENV}/lib:${PYTHONPATH:-none}', GREETING: 'hi from $VIRTUAL_ENV' })
  .setEnvs({ VIRTUAL_ENV: '/srv/venv' }))
