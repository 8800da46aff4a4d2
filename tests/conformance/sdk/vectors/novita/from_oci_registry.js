const { emit, CTX, Template } = require('./_emit')
const novita = require('novita-sandbox')
emit(Template().fromOCIRegistry('iad.ocir.io/ns/repo:tag', { tenancyOcid: 'ocid1.tenancy', userOcid: 'ocid1.user', fingerprint: 'aa:bb', privateKey: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n', region: 'us-ashburn-1' }))
