import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import react from '@vitejs/plugin-react'

/**
 * Three builds: main (Electron entry, the headless `serve` entry and the benchmarks, all plain
 * Node with native modules left external), preload (one sandbox-safe file) and the renderer.
 */
export default defineConfig({
  main: {
    build: {
      externalizeDeps: true,
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          serve: resolve(__dirname, 'src/main/serve.ts'),
          users: resolve(__dirname, 'src/main/users.ts'),
          'bench-lake': resolve(__dirname, 'bench/lake.ts'),
          'bench-tracking': resolve(__dirname, 'bench/tracking.ts'),
          'bench-notebooks': resolve(__dirname, 'bench/notebooks.ts'),
          'bench-notebooks-ui': resolve(__dirname, 'bench/notebooks-ui.ts'),
          'bench-jobs': resolve(__dirname, 'bench/jobs.ts'),
          'bench-registry': resolve(__dirname, 'bench/registry.ts'),
          'bench-endpoints': resolve(__dirname, 'bench/endpoints.ts'),
          'bench-builder': resolve(__dirname, 'bench/builder.ts'),
          'bench-cloud': resolve(__dirname, 'bench/cloud.ts'),
          'bench-load': resolve(__dirname, 'bench/load.ts')
        }
      }
    }
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].js' }
      }
    }
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [react()],
    build: {
      minify: true,
      chunkSizeWarningLimit: 6000,
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } }
    }
  }
})
