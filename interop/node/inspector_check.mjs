// The MCP Inspector (web UI, pinned in interop/peers/inspector) as a real client of an MCP
// endpoint, driven in headless Debian Chromium by playwright-core (IN-1..IN-3). Run by
// scripts/inspector.sh, which starts the endpoint; this script starts the Inspector's web
// server, opens its page, and does what a person would: connect, list the tools (and find no
// schema warning on any of them), call `echo`, run `long_running_operation` and watch its
// progress, read a resource, get a prompt. A screenshot per step goes to $SCREENSHOTS.
//
// Environment:
//   MCP_URL            the endpoint (required), e.g. http://127.0.0.1:18090/mcp
//   INSPECTOR_MODULES  node_modules holding @modelcontextprotocol/inspector and playwright-core
//   SCREENSHOTS        where screenshots and the Inspector's log go (default target/inspector)
//   LABEL              prefix of the screenshot names (default "serve")
//   INSPECTOR_PORT     the web UI's port (default 16274; the sandbox takes the next one)
//   CHROMIUM           the browser (default /usr/bin/chromium)
//   TIMEOUT_MS         the longest wait of one step (default 20000)
//
// Prints one line per check and closes with "N passed, M failed"; exits 1 when a check failed.

import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const env = process.env;
if (!env.MCP_URL || !env.INSPECTOR_MODULES) {
  console.error('inspector_check: set MCP_URL and INSPECTOR_MODULES');
  process.exit(2);
}
const require = createRequire(path.join(env.INSPECTOR_MODULES, 'x.js'));
const { chromium } = require('playwright-core');

const MCP_URL = env.MCP_URL;
const OUT = env.SCREENSHOTS || 'target/inspector';
const LABEL = env.LABEL || 'serve';
const PORT = Number(env.INSPECTOR_PORT || 16274);
const TIMEOUT = Number(env.TIMEOUT_MS || 20000);
const TOKEN = 'mcp-http-inspector-check';
mkdirSync(OUT, { recursive: true });

// The Inspector's web server: on loopback, no browser of its own, secrets in memory, its
// catalog in a scratch HOME.
const home = path.join(OUT, `${LABEL}-home`);
mkdirSync(home, { recursive: true });
const log = openSync(path.join(OUT, `${LABEL}-inspector.log`), 'w');
const inspector = spawn(
  process.execPath,
  [path.join(env.INSPECTOR_MODULES, '.bin', 'mcp-inspector'), '--web', '--transport', 'http', '--server-url', MCP_URL],
  {
    env: {
      ...env,
      HOME: home,
      HOST: '127.0.0.1',
      MCP_AUTO_OPEN_ENABLED: 'false',
      CLIENT_PORT: String(PORT),
      MCP_SANDBOX_PORT: String(PORT + 1),
      MCP_INSPECTOR_API_TOKEN: TOKEN,
      MCP_INSPECTOR_SECRET_STORE: 'memory',
    },
    stdio: ['ignore', log, log],
    detached: true,
  },
);
let browser;
const stopAll = async () => {
  if (browser) await browser.close().catch(() => {});
  try {
    process.kill(-inspector.pid, 'SIGTERM');
  } catch {}
};

/** Waits until the web UI answers (bounded). */
async function waitForInspector() {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (inspector.exitCode !== null) throw new Error(`the Inspector exited (${inspector.exitCode}); see ${LABEL}-inspector.log`);
    try {
      const r = await fetch(`http://127.0.0.1:${PORT}/`);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the Inspector web UI did not come up within 30 s');
}

let passed = 0;
let failed = 0;
let shot = 0;
async function check(name, page, body) {
  const started = Date.now();
  try {
    await body();
    passed += 1;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${String(e.message || e).split('\n')[0]}`);
  }
  shot += 1;
  const file = path.join(OUT, `${LABEL}-${String(shot).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true }).catch(() => {});
}

/** Opens a tab of the header (Servers, Tools, Prompts, Resources). */
async function tab(page, name) {
  await page.getByRole('banner').getByText(name, { exact: true }).click();
}

/** Selects a tool and fills its form; the field names are the tool's argument names. */
async function selectTool(page, name, fields) {
  await tab(page, 'Tools');
  await page.getByRole('button', { name, exact: true }).click();
  for (const [field, value] of Object.entries(fields)) {
    await page.getByRole('textbox', { name: field, exact: true }).fill(value);
  }
}

try {
  await waitForInspector();
  browser = await chromium.launch({
    executablePath: env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(TIMEOUT);
  // Offline: only loopback (the page asks for a web font elsewhere; it renders without it).
  await page.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    return ['127.0.0.1', 'localhost', '[::1]'].includes(host) ? route.continue() : route.abort();
  });
  await page.goto(`http://127.0.0.1:${PORT}/?MCP_INSPECTOR_API_TOKEN=${TOKEN}`);

  await check('connect', page, async () => {
    // The switch's own label is drawn over it: a forced click, as a person clicks the track.
    await page.getByRole('switch', { name: /Connect or disconnect/ }).click({ force: true });
    await page.getByText('Connected', { exact: true }).first().waitFor();
    await page.getByText(/^MCP \d{4}-\d{2}-\d{2}$/).first().waitFor();
  });

  await check('list-tools', page, async () => {
    await tab(page, 'Tools');
    const heading = page.getByRole('heading', { name: /^Tools \(\d+\)$/ });
    await heading.waitFor();
    const count = Number((await heading.innerText()).match(/\d+/)[0]);
    if (count < 3) throw new Error(`only ${count} tools listed`);
    for (const tool of ['echo', 'add', 'long_running_operation']) {
      await page.getByRole('button', { name: tool, exact: true }).waitFor();
    }
    console.log(`     ${count} tools`);
  });

  await check('no-schema-warnings', page, async () => {
    // The Inspector marks a tool whose input or output schema is not portable with an icon
    // labelled "Schema portability: ..." in the list (and details when the tool is opened).
    const buttons = page.getByRole('main').getByRole('button');
    await page.getByRole('button', { name: 'echo', exact: true }).waitFor();
    const marked = await page.locator('[aria-label^="Schema portability"]').evaluateAll((els) =>
      els.map((e) => `${e.closest('button')?.innerText ?? '?'}: ${e.getAttribute('aria-label')}`),
    );
    if (marked.length > 0) throw new Error(`schema warnings: ${marked.join('; ')}`);
    if ((await buttons.count()) < 3) throw new Error('the tool list is not shown');
  });

  await check('call-echo', page, async () => {
    const message = 'hello from the MCP Inspector';
    await selectTool(page, 'echo', { message });
    await page.getByRole('button', { name: 'Execute Tool' }).click();
    await page.getByRole('main').getByText(message, { exact: true }).last().waitFor();
    await page.getByRole('heading', { name: 'Results' }).waitFor();
  });

  await check('long-running-progress', page, async () => {
    await selectTool(page, 'long_running_operation', { duration: '2', steps: '4' });
    await page.getByRole('button', { name: 'Execute Tool' }).click();
    // A progress notification shows as "Tool progress: step i of 4 — i / 4 (p%)".
    await page.getByText('Tool progress').first().waitFor();
    await page.getByText(/step [1-4] of 4 — [1-4] \/ 4 \(\d+%\)/).first().waitFor();
    await page.getByText('Long running operation completed: 4 steps in 2 s').waitFor();
  });

  await check('read-resource', page, async () => {
    await tab(page, 'Resources');
    await page.getByRole('button', { name: 'static-text', exact: true }).click();
    await page.getByText('This is the content of the static text resource.').waitFor();
    await page.getByText('test://static-text').first().waitFor();
  });

  await check('get-prompt', page, async () => {
    await tab(page, 'Prompts');
    await page.getByRole('button', { name: /^test_prompt_with_arguments/ }).click();
    await page.getByRole('textbox', { name: 'arg1', exact: true }).fill('hello');
    await page.getByRole('textbox', { name: 'arg2', exact: true }).fill('world');
    await page.getByRole('button', { name: 'Get Prompt' }).click();
    await page.getByText("Prompt with arguments: arg1='hello', arg2='world'").first().waitFor();
  });
} catch (e) {
  failed += 1;
  console.log(`FAIL setup: ${String(e.message || e).split('\n')[0]}`);
} finally {
  await stopAll();
}
console.log(`screenshots in ${OUT}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
