/**
 * The gRPC `envoy.service.ext_proc.v3.ExternalProcessor` service Envoy's ext_proc filter calls.
 * Each `Process` stream is one HTTP request and gets its own {@link RequestProcessor}. A failure
 * inside the gateway answers with an immediate 500, never with "continue": Envoy must not let an
 * unchecked request through.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { bindInsecure, newGrpcServer, shutdownGracefully } from '../grpc-server.js';
import { wireError } from '../errors.js';
import type { ProcessingRequest, ProcessingResponse } from './messages.js';
import { RequestProcessor, type ProcessorDeps } from './processor.js';
import { EXT_PROC_SERVICE, loadExtProcProtos } from './protos.js';
import { Health, HEALTH_SERVICE } from './health.js';
import { immediate } from './translate.js';

export interface ExtProcServerOptions extends ProcessorDeps {
  /** How long `stop()` lets open streams finish before cutting them; default 5 s. */
  readonly shutdownGraceMs?: number;
}

export class ExtProcServer {
  private readonly server = newGrpcServer();
  /** `grpc.health.v1.Health` on the same port, for Envoy's active health checks (src/extproc/health.ts). */
  private readonly health = new Health([EXT_PROC_SERVICE]);

  constructor(private readonly opts: ExtProcServerOptions) {
    this.server.addService(loadExtProcProtos().service, { Process: (call: ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => this.stream(call) });
    this.server.addService(HEALTH_SERVICE, this.health.handlers());
  }

  /** Bind (127.0.0.1 and a free port by default); resolves with the bound port. */
  start(host = '127.0.0.1', port = 0): Promise<number> {
    return bindInsecure(this.server, host, port);
  }

  /** Stop accepting streams; let open ones finish for the grace period, then (after `beforeCut`) cut them. */
  async stop(graceMs = this.opts.shutdownGraceMs ?? 5_000, beforeCut?: () => void): Promise<void> {
    this.health.stopping();
    await shutdownGracefully(this.server, graceMs, beforeCut);
  }

  private stream(call: ServerDuplexStream<ProcessingRequest, ProcessingResponse>): void {
    const processor = new RequestProcessor(this.opts);
    // Answers go out in the order of the messages they answer (pipelined, several may be owed at once).
    let queue: Promise<void> = Promise.resolve();
    // Messages taken but not yet answered: Envoy closing the stream meanwhile has given up on them.
    let unanswered = 0;
    call.on('data', (req: ProcessingRequest) => {
      unanswered++;
      queue = queue.then(async () => {
        let answers: ProcessingResponse[];
        try {
          answers = await processor.process(req);
        } catch (err) {
          this.opts.logger.error({ err }, 'ext_proc processing failed');
          answers = [immediate(500, wireError('GW_INTERNAL', null), {}, 'GW_INTERNAL')];
        }
        for (const res of answers) if (!call.cancelled && call.writable) call.write(res);
        unanswered--;
      });
    });
    // A graceful end closes the exchange; a reset (Envoy gave up on the request) abandons it.
    const close = (reset: boolean): void => void queue.then(() => processor.close(reset));
    call.on('end', () => {
      // Envoy closes its side early only when it stopped waiting (its message timeout, the client gone).
      const gaveUp = unanswered > 0;
      void queue.then(() => call.end()).then(() => close(gaveUp));
    });
    call.on('cancelled', () => close(true));
    call.on('error', (err) => {
      this.opts.logger.debug({ err }, 'ext_proc stream error');
      close(true);
    });
  }
}
