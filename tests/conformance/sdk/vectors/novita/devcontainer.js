const { emit, CTX, Template } = require('./_emit')
const novita = require('novita-sandbox')
emit(Template().fromTemplate('devcontainer').gitClone('https://example.com/p.git', '/my-devcontainer').betaDevContainerPrebuild('/my-devcontainer').betaSetDevContainerStart('/my-devcontainer'))
