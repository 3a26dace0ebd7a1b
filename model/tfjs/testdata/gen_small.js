// gen_small.js — a small TF.js layers-model exercising the layer types and
// padding cases the nsfwjs models do not (stride-2 'same' convs on even and
// odd sizes, SeparableConv2D, 'same' pooling, BN with center/scale off,
// Concatenate, sigmoid/tanh activations), saved with its own weights plus
// the model's output for a fixed input, computed by TF.js.
//
//   NODE_PATH=<tmp>/node_modules node gen_small.js   (writes small/ here)
// Uses @tensorflow/tfjs 4.22.0, CPU backend, seeded initializers.
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

async function main() {
  await tf.setBackend('cpu');
  const init = (seed) => tf.initializers.randomNormal({ mean: 0, stddev: 0.3, seed });
  const inp = tf.input({ shape: [11, 10, 3], name: 'img' });
  let a = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', name: 'c_same_s2', kernelInitializer: init(1), biasInitializer: init(2) }).apply(inp);
  a = tf.layers.batchNormalization({ name: 'bn1', center: false, gammaInitializer: init(3), movingMeanInitializer: init(4), movingVarianceInitializer: 'ones' }).apply(a);
  let b = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, depthMultiplier: 2, padding: 'same', name: 'dw_same_s2', depthwiseInitializer: init(5), useBias: true, biasInitializer: init(6) }).apply(inp);
  b = tf.layers.activation({ activation: 'tanh', name: 'tanh1' }).apply(b);
  let c = tf.layers.separableConv2d({ filters: 5, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'relu', name: 'sep', depthwiseInitializer: init(7), pointwiseInitializer: init(8), biasInitializer: init(9) }).apply(inp);
  let m = tf.layers.concatenate({ name: 'cat' }).apply([a, b, c]);
  m = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'mp_same' }).apply(m);
  let p = tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'ap_same' }).apply(m);
  p = tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 2]], name: 'zp' }).apply(p);
  p = tf.layers.conv2d({ filters: 4, kernelSize: 2, dilationRate: 2, padding: 'valid', activation: 'sigmoid', name: 'c_dil', kernelInitializer: init(10), biasInitializer: init(11) }).apply(p);
  const g = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(p);
  const f = tf.layers.flatten({ name: 'flat' }).apply(p);
  let d = tf.layers.concatenate({ name: 'cat2' }).apply([g, f]);
  d = tf.layers.dense({ units: 3, activation: 'softmax', name: 'out', kernelInitializer: init(12), biasInitializer: init(13) }).apply(d);
  const model = tf.model({ inputs: inp, outputs: d, name: 'small' });

  const dir = path.join(__dirname, 'small');
  fs.mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (art) => {
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(art.weightData));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
      format: 'layers-model', generatedBy: 'gen_small.js', modelTopology: art.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }],
    }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  // Fixed input: x[h][w][c] = sin(0.37*(h*30 + w*3 + c)), NHWC.
  const vals = new Float32Array(11 * 10 * 3);
  for (let i = 0; i < vals.length; i++) vals[i] = Math.sin(0.37 * i);
  const x = tf.tensor4d(vals, [1, 11, 10, 3]);
  const out = { input: 'sin(0.37*i), NHWC [1,11,10,3]', output: Array.from(await model.predict(x).data()) };
  for (const name of ['c_same_s2', 'dw_same_s2', 'sep', 'mp_same', 'ap_same', 'c_dil']) {
    const t = tf.model({ inputs: inp, outputs: model.getLayer(name).output }).predict(x);
    out[name] = { shape: t.shape, nhwc: Array.from(await t.data()) };
  }
  fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify(out));
}
main().catch((e) => { console.error(e); process.exit(1); });
