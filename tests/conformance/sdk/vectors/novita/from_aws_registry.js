const { emit, CTX, Template } = require('./_emit')
const novita = require('novita-sandbox')
emit(Template().fromAWSRegistry('1.dkr.ecr.us-west-2.amazonaws.com/a:b', { accessKeyId: 'AK', secretAccessKey: 'SK', region: 'us-west-2' }))
