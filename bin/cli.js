#!/usr/bin/env node
// `cognito-lockout` command: the admin CLI (bin/admin.ts), bundled with its AWS SDK clients by the package build
// (scripts/build-assets.mjs), so it needs nothing installed beside it.
require('../dist/cli/index.js');
