const { emit, CTX, Template } = require('./_emit')
const novita = require('novita-sandbox')
emit(Template().fromHuaweiCloudRegistry('swr.cn-north-4.myhuaweicloud.com/org/img:1', { accessKeyId: 'AK', secretAccessKey: 'SK', region: 'cn-north-4' }))
