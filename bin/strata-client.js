#!/usr/bin/env node
'use strict';
require('../dist/src/client/cli/main.js');
