const { emit, CTX, Template } = require('./_emit')
const novita = require('novita-sandbox')
emit(Template().fromTemplate('t').makeDir(['with space', "it's"]).gitClone('https://x/y.git', 'my dir', { branch: 'a b' }))
