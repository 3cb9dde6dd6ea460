// tsc compiles only TypeScript: the admin page's static files are copied beside the compiled router.
const fs = require('node:fs');
const path = require('node:path');
const root = path.join(__dirname, '..');
fs.cpSync(path.join(root, 'src/ui/static'), path.join(root, 'dist/ui/static'), { recursive: true });
