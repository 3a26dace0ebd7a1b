// gen_reference.js — reference outputs of the nsfwjs@4.4.0 layers-models
// computed by TF.js itself, for the Go importer's parity test.
//
// Setup (once, any temp dir):
//   npm install @tensorflow/tfjs@4.22.0
//   ../../../scripts/fetch-nsfwjs.sh            # models into the preconv cache
// Run (from this directory):
//   NODE_PATH=<tmp>/node_modules node gen_reference.js <nsfwjs models dir> > reference.json
//
// It loads the npm-bundled model files with Node's own require (independent
// of the Go unwrapping), feeds the committed inputs_SIZE.u8.gz (uint8 RGB
// HWC from gen_inputs.py) divided by 255 as NHWC float32, and records the
// 5-class probabilities plus the global-average-pooled features of one
// frozen tap per model (block_13_expand_relu, mixed5) for the first two
// images. Backend: the pure-JS CPU backend of @tensorflow/tfjs.
const path = require('path');
const fs = require('fs');
const zlib = require('zlib');
const tf = require('@tensorflow/tfjs');

const CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];
const MODELS = [
  { name: 'mobilenet_v2', size: 224, tap: 'block_13_expand_relu' },
  { name: 'inception_v3', size: 299, tap: 'mixed5' },
];

async function load(dir) {
  const topo = require(path.join(dir, 'model.min.js'));
  const specs = [];
  const bufs = [];
  for (const g of topo.weightsManifest) {
    for (const p of g.paths) bufs.push(Buffer.from(require(path.join(dir, p + '.min.js')), 'base64'));
    specs.push(...g.weights);
  }
  const all = Buffer.concat(bufs);
  const ab = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topo.modelTopology, weightSpecs: specs, weightData: ab }));
}

async function main() {
  await tf.setBackend('cpu');
  const root = process.argv[2];
  const out = { generator: 'gen_reference.js', tfjs: tf.version.tfjs, backend: tf.getBackend(), classes: CLASSES, models: {} };
  for (const m of MODELS) {
    const model = await load(path.join(root, m.name));
    const names = fs.readFileSync(path.join(__dirname, `inputs_${m.size}.txt`), 'utf8').trim().split('\n');
    const u8 = zlib.gunzipSync(fs.readFileSync(path.join(__dirname, `inputs_${m.size}.u8.gz`)));
    const per = m.size * m.size * 3;
    const tapModel = tf.model({ inputs: model.inputs, outputs: model.getLayer(m.tap).output });
    const res = { input: `inputs_${m.size}.u8.gz`, size: m.size, tap: m.tap, images: [] };
    for (let i = 0; i < names.length; i++) {
      const f = new Float32Array(per);
      for (let j = 0; j < per; j++) f[j] = u8[i * per + j] / 255;
      const x = tf.tensor4d(f, [1, m.size, m.size, 3]);
      const probs = Array.from(await model.predict(x).data());
      const img = { name: names[i], probs };
      if (i < 2) img.tap_gap = Array.from(await tapModel.predict(x).mean([1, 2]).data());
      res.images.push(img);
      x.dispose();
      process.stderr.write(`${m.name} ${names[i]} ${probs.map((p) => p.toFixed(4)).join(' ')}\n`);
    }
    out.models[m.name] = res;
  }
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}
main().catch((e) => { console.error(e); process.exit(1); });
