// Builds two templates against `sandbox-template serve` with the official E2B JS SDK.
// argv: CONTEXT_DIR BASE_IMAGE SEED_NAME ALL_STEPS_NAME; env: E2B_API_URL, E2B_API_KEY.
const { Template, waitForPort, waitForFile } = require('e2b')

const [ctx, base, seedName, allName] = process.argv.slice(2)
const onBuildLogs = (entry) => console.log(`[log] ${entry.toString()}`)

async function main() {
  // seed.js with the python base replaced by the local busybox base (nothing can be pulled),
  // and pip (no Python there) replaced by a RUN that leaves a mark.
  const seed = Template({ fileContextPath: ctx })
    .fromImage(base)
    .setUser('root') // steps run as `user` otherwise, as in the cloud
    .setEnvs({ APP_ENV: 'prod', GREETING: 'hello world' })
    .runCmd('echo seeded > /seed.txt')
    .copy('fixture', '/app/fixture')
    .setStartCmd('busybox httpd -f -p 8000 -h /app/fixture', waitForPort(8000))
  const a = await Template.build(seed, seedName, { onBuildLogs })
  console.log(`BUILT ${JSON.stringify(a)}`)

  // Every step kind busybox can run.
  const all = Template({ fileContextPath: ctx })
    .fromImage(base)
    .setUser('root') // steps run as `user` otherwise, as in the cloud
    .setEnvs({ STEP_ENV: 'from-env', SECOND: 'two words' })
    .copy('fixture/hello.txt', '/app/', { user: 'user', mode: 0o640 })
    .copy('fixture/sub', '/app/sub')
    .runCmd(['echo ran > /app/ran.txt', 'echo moved > /app/to-move.txt'])
    .makeDir('/app/made', { mode: 0o750 })
    .rename('/app/to-move.txt', '/app/moved.txt')
    .makeSymlink('/app/hello.txt', '/app/link.txt')
    .runCmd('touch /app/doomed')
    .remove('/app/doomed', { force: true })
    .setWorkdir('/app')
    .setUser('user')
    .runCmd('id -un > /tmp/whoami')
    .setStartCmd('touch /tmp/started && sleep 600', waitForFile('/tmp/started'))
  const b = await Template.build(all, allName, { onBuildLogs })
  console.log(`BUILT ${JSON.stringify(b)}`)
}

main().catch((e) => {
  console.error(`FAILED: ${e && e.stack ? e.stack : e}`)
  process.exit(1)
})
