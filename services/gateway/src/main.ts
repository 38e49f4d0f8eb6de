// gateway: the five M2SE tasks over gRPC (see service.ts for the wiring, gateway.ts for the assembly).
import { createGatewayService } from './service.js';

await createGatewayService().main();
