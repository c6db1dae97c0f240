/* For the Wine check only (release/check-windows.sh), never shipped: Rust's standard library
 * draws its random seeds from ProcessPrng in bcryptprimitives.dll, which every Windows 10 and
 * later has and Debian 12's Wine 8.0 does not. This stand-in, put beside the .exe under test,
 * answers from RtlGenRandom (advapi32's SystemFunction036), which Wine has. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
