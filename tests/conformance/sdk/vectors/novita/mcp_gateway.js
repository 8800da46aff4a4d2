const { emit, CTX, Template } = require('./_emit')
const novita = require('novita-sandbox')
emit(Template().fromTemplate('mcp-gateway').addMcpServer(['exa', 'brave']))
