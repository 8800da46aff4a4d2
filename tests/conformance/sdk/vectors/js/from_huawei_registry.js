const { emit, emitError, CTX, CTX_IGNORE, Template } = require('./_emit')
const e2b = require('e2b')
emitError(() => Template().fromHuaweiCloudRegistry('swr.cn-north-4.myhuaweicloud.com/org/img:1', { accessKeyId: 'AK', secretAccessKey: 'SK', region: 'cn-north-4' }))
