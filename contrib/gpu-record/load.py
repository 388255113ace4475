# Holds ~92% of the GPU's memory and keeps the SMs busy, so the captures show a
# compute app, real utilisation and evodiag's gpu.memory warning (90% default).
import sys, time, torch
ready, secs = sys.argv[1], float(sys.argv[2])
free, total = torch.cuda.mem_get_info()
want = int(total * 0.92) - (total - free)
hold = None
while hold is None and want > 0:
    try:
        hold = torch.empty(want, dtype=torch.uint8, device="cuda")
    except RuntimeError:
        want -= 1 << 30
a = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
b = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
free, total = torch.cuda.mem_get_info()
with open(ready, "w") as f:
    f.write("used %d of %d bytes\n" % (total - free, total))
end = time.time() + secs
while time.time() < end:
    c = a @ b
    torch.cuda.synchronize()
