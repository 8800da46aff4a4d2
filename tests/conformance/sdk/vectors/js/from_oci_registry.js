const { emit, emitError, CTX, CTX_IGNORE, Template } = require('./_emit')
const e2b = require('e2b')
emitError(() => Template().fromOCIRegistry('iad.ocir.io/ns/repo:tag', { tenancyOcid: 'ocid1.tenancy', userOcid: 'ocid1.user', fingerprint: 'aa:bb', privateKey: 'k', region: 'us-ashburn-1' }))
