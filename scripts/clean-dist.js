// Each build starts from an empty dist/, so a module removed from src/ is never packed from an older build.
const fs = require('node:fs');
const path = require('node:path');
fs.rmSync(path.join(__dirname, '..', 'dist'), { recursive: true, force: true });
