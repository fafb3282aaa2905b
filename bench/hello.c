/* hello.c -- the ceiling: a FastCGI responder that only says {"ok":true} */
#include <stdlib.h>

#include <fcgiapp.h>

/*
 * bench/run mounts this program in the same lighttpd as usher, with the same
 * max-procs, so that the difference between its figures and an endpoint's is
 * the endpoint's own work. It reads nothing of the request.
 */
int
main(void)
{
	FCGX_Request	req;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutS("Status: 200 OK\r\n"
		    "Content-Type: application/json\r\n"
		    "Content-Length: 12\r\n"
		    "\r\n"
		    "{\"ok\":true}\n", req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
