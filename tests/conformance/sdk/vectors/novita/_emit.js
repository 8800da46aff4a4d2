// The novita-sandbox twin of ../_emit.js: serializes a template with the official
// novita-sandbox JS SDK (Template.toJSON / Template.toDockerfile) and writes NAME.json and
// NAME.dockerfile next to NAME.js. Written when the vectors moved into the repository: the
// scripts of the original recording were not kept; record.sh checks that these reproduce it.
const fs = require('fs')
const path = require('path')
const { Template } = require('novita-sandbox')

async function emit(template, opts = {}) {
  const name = opts.name || path.basename(require.main.filename, '.js')
  let json
  try {
    json = await Template.toJSON(template, opts.computeHashes ?? true)
  } catch (e) {
    json = `ERROR: ${e.name}: ${e.message}\n`
  }
  let df
  try {
    df = Template.toDockerfile(template)
  } catch (e) {
    df = `ERROR: ${e.name}: ${e.message}\n`
  }
  fs.writeFileSync(path.join(__dirname, name + '.json'), json)
  fs.writeFileSync(path.join(__dirname, name + '.dockerfile'), df)
  process.stdout.write(`== ${name}.json\n${json}\n== ${name}.dockerfile\n${df}\n`)
}

// The fixture of make_fixture.sh, one folder up (like py/).
const CTX = path.join(__dirname, '..', 'ctx')
module.exports = { emit, CTX, Template }
