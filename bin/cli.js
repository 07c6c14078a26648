#!/usr/bin/env node
// `cognito-lockout` command: runs the TypeScript admin CLI (bin/admin.ts) through tsx's require hook.
require('tsx/cjs');
require('./admin.ts');
