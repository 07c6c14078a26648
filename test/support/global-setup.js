// Builds the bundles the construct deploys (dist/assets), the trigger library, the CLI and the client before any
// suite runs, with the package's own build script: the tests exercise exactly what `npm pack` ships.
module.exports = async () => {
  const { buildAssets } = await import('../../scripts/build-assets.mjs');
  await buildAssets();
};
