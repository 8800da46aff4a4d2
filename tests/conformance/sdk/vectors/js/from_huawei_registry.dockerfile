ERROR: TypeError: Template(...).fromHuaweiCloudRegistry is not a function
