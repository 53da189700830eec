import nodemailer, { type Transporter } from 'nodemailer';

/**
 * The seed's development email provider: what would be pushed is mailed to fixed recipients
 * through an SMTP server (nodemailer).
 */
export class EmailProvider {
  private readonly transport: Transporter;

  constructor(smtpUrl: string, private readonly from: string, private readonly to: string[]) {
    this.transport = nodemailer.createTransport(smtpUrl);
  }

  async send(subject: string, text: string): Promise<void> {
    await this.transport.sendMail({ from: this.from, to: this.to, subject, text });
  }

  close(): void {
    this.transport.close();
  }
}
