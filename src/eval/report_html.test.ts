import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportHtml } from './report_html.js';

test('report.html lays distances out by pair of sets and space, privacy by space, with no script', async () => {
  const report = {
    created: 'now', sets: { train: { name: 'train', count: 10 } },
    kid: {
      'KID_incv3-nsfwjs': { mean: 3.27e-4, std: 2.3e-5, subsets: 100, subsetSize: 500 },
      vsTest: { 'KID_incv3-nsfwjs': { mean: 3.3e-4, std: 2.1e-5, subsets: 100, subsetSize: 500 } },
      realTestVsTrain: { 'KID_incv3-nsfwjs': { mean: 6.4e-7, std: 3e-6, subsets: 100, subsetSize: 500 } },
    },
    prdc: { PRDC_domain: { precision: 0.933, recall: 0.823, density: 0.951, coverage: 0.891, k: 5 } },
    privacy: {
      mia_auc: 0.503, subsample: { train: 70, trainCount: 630, holdout: 70, holdoutCount: 70, seed: 0 },
      pixel: { closerToTrainShare: 0.4938, ci95: [0.4845, 0.5038], identicalToTrain: 0 },
      feature: { closerToTrainShare: 0.4996, ci95: [0.49, 0.509], identicalToTrain: 0 },
    },
    seconds: { kid: 1 },
  };
  const html = await reportHtml(report, '/nonexistent', null);
  assert.doesNotMatch(html, /<script/i);
  assert.match(html, /<th>KID_incv3-nsfwjs<\/th><td>0\.0003270 ± 0\.000023 <small>\(100 subsets of 500\)<\/small><\/td>/, 'headline KID as mean ± std');
  assert.match(html, /<tr><th>real test vs real train \(the floor at this size\)<\/th><td>6\.400e-7 ± /);
  assert.match(html, /<td>precision 0\.933 · recall 0\.823 · density 0\.951 · coverage 0\.891<\/td>/);
  assert.match(html, /<tr><th><\/th><th>pixel<\/th><th>feature<\/th><\/tr>/);
  assert.match(html, /<tr><th>ci95<\/th><td>\[0\.4845, 0\.5038\]<\/td><td>\[0\.4900, 0\.5090\]<\/td><\/tr>/);
  assert.match(html, /<tr><th>identicalToTrain<\/th><td>0<\/td><td>0<\/td><\/tr>/, 'integers without decimals');
  assert.match(html, /70 of 630 training images \(seed 0\) against 70 of 70 held-out images/);
});
