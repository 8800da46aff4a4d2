const { emit, emitError, CTX, CTX_IGNORE, Template } = require('./_emit')
const e2b = require('e2b')
emitError(() => Template().fromBaseImage().betaDevContainerPrebuild('/my-devcontainer'))
