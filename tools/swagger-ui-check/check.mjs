// A manual check of the API as a person meets it in Swagger UI (not run by ./mvnw verify): drives a real
// headless Chromium through "Try it out" on a running node and saves screenshots. See README.md beside it.
//   node check.mjs [base-url] [screenshot-dir]     (defaults: http://localhost:8080 /tmp/swagger-shots)
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.argv[2] ?? 'http://localhost:8080';
const shots = process.argv[3] ?? '/tmp/swagger-shots';
mkdirSync(shots, { recursive: true });
const run = Date.now().toString(36); // fresh keys each run, so that the create-only step really creates

// a fresh profile each run; without the background-networking flags Chromium's own connections get refused
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'swagger-check-')), {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 1400 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const failures = [];
const expect = (ok, what) => { console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); if (!ok) failures.push(what); };
try {
  const page = await browser.newPage();
  const sent = [];
  page.on('request', r => { if (r.url().includes('/v1/')) sent.push(r); });

  await page.goto(`${base}/q/swagger-ui/`);
  await page.waitForSelector('.opblock');

  // One operation: open it, press "Try it out", let `fill` change the form, Execute, read the live response.
  async function tryOut(id, name, fill) {
    const op = page.locator(`[id$="-${id}"]`);
    if (!(await op.evaluate(e => e.classList.contains('is-open')))) await op.locator('.opblock-summary').first().click();
    await op.locator('button.try-out__btn').first().waitFor();
    const tryButton = op.locator('button.try-out__btn', { hasText: 'Try it out' });
    if (await tryButton.count()) await tryButton.click();
    await op.locator('button.try-out__btn.cancel').waitFor();
    await op.locator('button.execute').waitFor();
    await page.screenshot({ path: `${shots}/${name}-form.png`, fullPage: false, clip: await clip(op) });
    await fill(op);
    const before = sent.length;
    await op.locator('button.execute').click();
    const statusCell = op.locator('.live-responses-table tr.response .response-col_status').first();
    await statusCell.waitFor();
    await page.waitForTimeout(300);
    const status = (await statusCell.textContent()).trim();
    const body = await op.locator('.live-responses-table .response-col_description pre').first().textContent()
      .catch(() => '');
    await page.screenshot({ path: `${shots}/${name}-response.png`, clip: await clip(op) });
    const request = sent[before];
    console.log(`${name}: ${request?.method()} ${request?.url()} -> ${status}`);
    return { status, body, request, headers: request ? await request.allHeaders() : {} };
  }
  async function clip(op) {
    await op.scrollIntoViewIfNeeded();
    const b = await op.boundingBox();
    return { x: 0, y: Math.max(0, b.y - 10), width: 1280, height: Math.min(b.height + 20, 1400) };
  }
  async function clear(op) { // "Try it out" is stateful: empty the header fields left from a previous run
    for (const h of ['If-Match', 'If-None-Match']) {
      const f = op.locator(`tr[data-param-name="${h}"] input`);
      if (await f.count()) await f.fill('');
    }
  }

  await page.screenshot({ path: `${shots}/00-overview.png` });

  // 1. PUT with the example key and a typed text value; both condition headers left empty
  const put = await tryOut('writeKey', '01-put', async op => {
    const ifMatch = await op.locator('tr[data-param-name="If-Match"] input').inputValue();
    const ifNoneMatch = await op.locator('tr[data-param-name="If-None-Match"] input').inputValue();
    expect(ifMatch === '' && ifNoneMatch === '', `PUT form: condition headers start empty ('${ifMatch}', '${ifNoneMatch}')`);
    expect(await op.locator('textarea.body-param__text').count() === 1, 'PUT form: a text area for the value');
    expect(await op.locator('tr[data-param-name="key"] input').inputValue() === 'user:42', 'PUT form: key user:42');
    await op.locator('textarea.body-param__text').fill(`hello from Swagger UI ${run}`);
  });
  expect(put.status === '204', `PUT answered ${put.status}`);
  expect(put.request.url().endsWith('/v1/kv/user%3A42'), `PUT went to ${put.request.url()} (key encoded once)`);
  expect(!('if-match' in put.headers) && !('if-none-match' in put.headers), 'PUT sent no condition header');
  expect((put.headers['content-type'] ?? '').startsWith('text/plain'), `PUT Content-Type ${put.headers['content-type']}`);

  // 2. GET shows the value as text
  const get = await tryOut('readKey', '02-get', async () => {});
  expect(get.status === '200', `GET answered ${get.status}`);
  expect(get.body.includes(`hello from Swagger UI ${run}`), `GET shows the value as text: '${get.body}'`);
  expect(get.headers.accept === 'text/plain', `GET sent Accept ${get.headers.accept}`);

  // 3. create only: If-None-Match: * on a fresh key, then again (412 with the current ETag)
  const fresh = `fresh:${run}`;
  const create = await tryOut('writeKey', '03-create', async op => {
    await clear(op);
    await op.locator('tr[data-param-name="key"] input').fill(fresh);
    await op.locator('tr[data-param-name="If-None-Match"] input').fill('*');
    await op.locator('textarea.body-param__text').fill('created once');
  });
  expect(create.status === '204', `create-only PUT answered ${create.status}`);
  expect(create.headers['if-none-match'] === '*', `create sent If-None-Match ${create.headers['if-none-match']}`);
  const again = await tryOut('writeKey', '04-create-again', async () => {});
  expect(again.status === '412', `second create-only PUT answered ${again.status}`);
  expect(again.body.includes('already exists'), 'the 412 problem says the key already exists');
} finally {
  await browser.close();
}
console.log(failures.length ? `${failures.length} check(s) failed` : 'all checks passed');
process.exit(failures.length ? 1 : 0);
