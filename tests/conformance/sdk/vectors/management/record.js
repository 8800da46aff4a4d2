// Records the HTTP requests the official JS SDKs send for template management (list, get,
// delete, exists, tags, build status) against a local stand-in server, into requests.json.
//
//   cd SCRATCH && npm install e2b@2.51.0 novita-sandbox@2.1.1
//   NODE_PATH=SCRATCH/node_modules node record.js > requests.json
//
// Each entry: the SDK call, then method, path (as sent, percent-encoding kept), query (sorted
// pairs), the body, and whether the API key header was sent; then what the call returned. The Rust client's test
// (template-runtime/tests/it/cloud/manage.rs) makes the same calls and compares.
const http = require('node:http')

const KEY = 'e2b_0123456789abcdef0123456789abcdef01234567'
const TEMPLATE = { templateID: 'tpl-1', buildID: 'b-1', buildStatus: 'ready', aliases: [], names: ['ns/app'],
  buildCount: 2, cpuCount: 2, memoryMB: 1024, diskSizeMB: 5120, spawnCount: 0, envdVersion: '0.2.0',
  public: false, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', lastSpawnedAt: null,
  createdBy: null }

let recorded = []
function answer(req, res, body) {
  const url = new URL(req.url, 'http://x')
  const query = [...url.searchParams.entries()].sort()
  recorded.push({ method: req.method, path: url.pathname, query, body: body || null,
    apiKey: req.headers['x-api-key'] === KEY })
  const json = (status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(value === undefined ? '' : JSON.stringify(value))
  }
  if (req.method === 'GET' && url.pathname === '/v2/templates') {
    const page = Number(url.searchParams.get('page') || 1)
    return json(200, { templates: [TEMPLATE], total: 3, page, limit: 1, totalPages: 2 })
  }
  if (req.method === 'GET' && url.pathname.startsWith('/templates/aliases/')) return json(200, { templateID: 'tpl-1', public: false })
  if (req.method === 'POST' && url.pathname === '/templates/tags') return json(201, { buildID: 'b-1', tags: ['prod'] })
  if (req.method === 'DELETE' && url.pathname === '/templates/tags') return json(204)
  if (req.method === 'GET' && url.pathname.endsWith('/tags')) return json(200, [{ tag: 'prod', buildID: 'b-1', createdAt: '2026-01-01T00:00:00Z' }])
  if (req.method === 'GET' && url.pathname.endsWith('/status')) return json(200, { templateID: 'tpl-1', buildID: 'b-1', status: 'ready', logs: [], logEntries: [] })
  if (req.method === 'DELETE' && url.pathname === '/templates/missing') return json(404, { code: 404, message: 'not found' })
  if (req.method === 'DELETE') return json(204)
  if (req.method === 'GET') return json(200, { ...TEMPLATE, buildID: undefined, buildStatus: undefined,
    builds: [{ buildID: 'b-2', status: 'building', cpuCount: 2, memoryMB: 1024, createdAt: '2026-01-02T00:00:00Z', updatedAt: '2026-01-02T00:00:00Z' }] })
  json(500, { code: 500, message: 'unexpected' })
}

async function main() {
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => answer(req, res, body))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const apiUrl = `http://127.0.0.1:${server.address().port}`
  const out = {}
  async function record(name, fn) {
    recorded = []
    let result
    try { result = await fn() } catch (e) { result = { error: String(e) } }
    out[name] = { requests: recorded, result: result === undefined ? null : result }
  }
  for (const [provider, pkg] of [['e2b', 'e2b'], ['novita', 'novita-sandbox']]) {
    const sdk = require(pkg)
    const opts = { apiKey: KEY, apiUrl }
    const T = sdk.Template
    if (provider === 'novita') {
      await record('novita list', async () => { const p = T.list(opts); const a = await p.nextPage(); const b = await p.nextPage(); return [a, b, p.hasNext] })
      await record('novita list limit', () => sdk.TemplateApi.listTemplates({ ...opts, limit: 50, page: 3 }))
      await record('novita list snapshots', () => T.list({ ...opts, templateType: 'snapshot_template' }).nextPage())
      await record('novita get', () => T.get('ns/app:v1', opts))
      await record('novita delete', () => sdk.TemplateApi.deleteTemplate('ns/app', opts))
      await record('novita delete missing', () => sdk.TemplateApi.deleteTemplate('missing', opts))
    } else {
      await record('e2b delete', () => sdk.Sandbox.deleteSnapshot('ns/app', opts))
      await record('e2b delete missing', () => sdk.Sandbox.deleteSnapshot('missing', opts))
    }
    await record(`${provider} exists`, () => T.exists('ns/app:v1', opts))
    await record(`${provider} tags add`, () => T.assignTags('ns/app:v1', ['prod', 'stable'], opts))
    await record(`${provider} tags remove`, () => T.removeTags('ns/app', ['prod'], opts))
    await record(`${provider} tags list`, () => T.getTags('ns/app', opts))
    await record(`${provider} status`, () => T.getBuildStatus({ templateId: 'tpl-1', buildId: 'b-1' }, { ...opts, logsOffset: 7 }))
  }
  server.close()
  process.stdout.write(JSON.stringify(out, null, 1) + '\n')
}
main()
