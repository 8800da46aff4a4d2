const { emit, CTX, Template } = require('./_emit')
const novita = require('novita-sandbox')
emit(Template().fromTemplate('t').setStartCmd('npm start', novita.waitForURL('http://localhost:3000/health?a=1&b=2')))
